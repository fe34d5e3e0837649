// Fieldlink light sensor: an ESP32 with a VEML7700 that hosts its own live page
// and, when a hub is configured, publishes to it over MQTT 3.1.1. Both work alone.
//
// The board's own web server (port 80, ESPAsyncWebServer):
//   GET /, /app.js, /style.css   the sensor node's page (page.h, generated from
//                                packages/device/public/ by scripts/arduino-page.mjs)
//   WebSocket /ws/live           every reading pushed to every open browser, in the
//                                frames `fieldlink node` sends (packages/device/src/node/live-frames.ts)
//
// To a hub (HUB_HOST; empty: no hub), the hub's device conventions (docs/protocol.md, "Topics"):
//   devices/{id}/status          retained {"online":true,"ts":…} after every connect
//                                (birth); last will {"online":false,"ts":0,"reason":"will"}
//   devices/{id}/meta            retained model, firmware, metrics and methods
//   devices/{id}/telemetry       {"lux":…,"white":…,"als":…,"ts":…} every intervalMs
//   devices/{id}/cmd/+           {"id","params"} answered on …/cmd/{method}/res, same id
//
// Libraries (Arduino Library Manager), versions in ../README.md: PubSubClient 2.8
// (Nick O'Leary), ArduinoJson 7 (Benoit Blanchon), Adafruit VEML7700 2.x (with
// Adafruit BusIO), ESP Async WebServer 3.7 and Async TCP 3.4 (ESP32Async).
// Board: any ESP32 (arduino-esp32 2.x or 3.x). Wiring and notes: ../README.md.
//
// The "fieldlink:" comments mark the topics and JSON frames this sketch builds;
// test/e2e/examples.test.ts extracts them and checks them against the protocol
// and the live page's schema.

#define ARDUINOJSON_USE_LONG_LONG 1  // ts is ms since 1970: more than 32 bits
#include <ArduinoJson.h>
#include <AsyncTCP.h>
#include <ESPAsyncWebServer.h>
#include <PubSubClient.h>
#include <WiFi.h>
#include <Wire.h>
#include <Adafruit_VEML7700.h>
#include <sys/time.h>
#include <time.h>
#include "page.h"

// ---------- configuration ----------
const char* WIFI_SSID = "your-wifi";
const char* WIFI_PASSWORD = "your-password";
const char* HUB_HOST = "192.168.1.10";  // the hub's address (an IP is safest; see README); "" = page only
const uint16_t HUB_PORT = 1883;
const char* DEVICE_ID = "";              // empty: esp32-<MAC>, e.g. esp32-a0b1c2d3e4f5
const char* NTP_SERVER = "pool.ntp.org";  // for "ts"; without time the hub stamps arrival
const int LED_PIN = 2;                    // blinks on "identify" (many dev boards: GPIO 2)

// ---------- protocol constants ----------
const char* FIRMWARE = "fieldlink-esp32-example/0.1.0";
const unsigned long MIN_INTERVAL_MS = 100;
const unsigned long MAX_INTERVAL_MS = 3600000;
const size_t HISTORY = 120;          // readings the page gets on connect (the chart's start)
const size_t MAX_BROWSERS = 4;       // open pages at once; the oldest is closed beyond this
const size_t HELLO_QUEUE = 8;        // pages waiting for their hello; beyond: counted, they start empty
// The node's headers (packages/device/src/node/http.ts): the page has no inline script.
const char CSP[] = "default-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

// Retained on devices/{id}/status by the broker when this board vanishes
// (power cut, Wi-Fi lost: no DISCONNECT within 1.5 keepalives) [MQTT-3.1.2-8].
// fieldlink:json will
const char WILL_PAYLOAD[] = R"json({"online":false,"ts":0,"reason":"will"})json";

// fieldlink:json meta
const char META_JSON[] = R"json({"model":"VEML7700","firmware":"fieldlink-esp32-example/0.1.0","metrics":{"lux":{"unit":"lx"},"white":{"unit":"counts"},"als":{"unit":"counts"}},"methods":{"set_interval":{"params":{"ms":{"type":"integer","min":100,"max":3600000}}},"identify":{}}})json";

Adafruit_VEML7700 veml;
WiFiClient net;
PubSubClient mqtt(net);
AsyncWebServer web(80);
AsyncWebSocket liveSocket("/ws/live");
QueueHandle_t helloQueue;  // client ids from the web server's task; loop() answers them

struct Point { uint64_t ts; float lux; };
Point history[HISTORY];    // ring buffer, written and read by loop() only
size_t historyLen = 0;
size_t historyNext = 0;
volatile unsigned long hellosDropped = 0;  // written by the web server's task

char deviceId[65];
char topicTelemetry[96];
char topicStatus[96];
char topicMeta[96];
char topicCommands[96];
char hubUrl[96];
unsigned long intervalMs = 1000;
unsigned long lastReading = 0;
unsigned long identifyUntil = 0;
unsigned long lastConnectAttempt = 0;
unsigned long lastStatus = 0;

// ms since 1970 once NTP has answered, else 0 (the hub then stamps arrival time).
uint64_t nowMs() {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  if (tv.tv_sec < 1700000000) return 0;
  return (uint64_t)tv.tv_sec * 1000ULL + tv.tv_usec / 1000;
}

// The page needs a time for every point: ms since 1970 once NTP answered, else since boot.
uint64_t pageMs() {
  uint64_t ts = nowMs();
  return ts ? ts : (uint64_t)millis();
}

bool hubConfigured() { return HUB_HOST[0] != '\0'; }

// Adafruit's gain codes as the page shows them (the VEML7700's ALS_GAIN values).
const char* gainName(uint8_t code) {
  switch (code) {
    case VEML7700_GAIN_1_8: return "1/8";
    case VEML7700_GAIN_1_4: return "1/4";
    case VEML7700_GAIN_2: return "2";
    default: return "1";
  }
}

void buildTopics() {
  if (DEVICE_ID[0] != '\0') {
    strlcpy(deviceId, DEVICE_ID, sizeof deviceId);
  } else {
    // fieldlink:format device-id
    snprintf(deviceId, sizeof deviceId, "esp32-%012llx", (unsigned long long)ESP.getEfuseMac());
  }
  // fieldlink:topic telemetry
  snprintf(topicTelemetry, sizeof topicTelemetry, "devices/%s/telemetry", deviceId);
  // fieldlink:topic status
  snprintf(topicStatus, sizeof topicStatus, "devices/%s/status", deviceId);
  // fieldlink:topic meta
  snprintf(topicMeta, sizeof topicMeta, "devices/%s/meta", deviceId);
  // fieldlink:topic commands
  snprintf(topicCommands, sizeof topicCommands, "devices/%s/cmd/+", deviceId);
}

void publishJson(const char* topic, JsonDocument& doc, bool retained) {
  char buf[256];
  size_t n = serializeJson(doc, buf, sizeof buf);
  mqtt.publish(topic, (const uint8_t*)buf, n, retained);
}

void publishReading(float lux, uint16_t white, uint16_t als, uint64_t ts) {
  // fieldlink:frame telemetry {"lux":412.5,"white":530,"als":424,"ts":1764072000000}
  JsonDocument doc;
  doc["lux"] = lux;
  doc["white"] = white;
  doc["als"] = als;
  if (ts) doc["ts"] = ts;
  // fieldlink:end
  publishJson(topicTelemetry, doc, false);
}

void addHubStatus(JsonObject hub) {
  // fieldlink:frame live:hub {"url":"mqtt://192.168.1.10:1883","connected":true,"buffered":0}
  if (hubConfigured()) hub["url"] = hubUrl;  // no url: the page says "no hub configured"
  hub["connected"] = mqtt.connected();
  hub["buffered"] = 0;                       // PubSubClient keeps no queue (see README)
  // fieldlink:end
}

// One reading to every open page: the node's "reading" frame.
void broadcastReading(float lux, uint16_t white, uint16_t als, uint64_t at) {
  // fieldlink:frame live:reading {"op":"reading","ts":1764072000000,"lux":412.5,"white":530,"als":424,"gain":"1/8","integrationMs":100,"hub":{"url":"mqtt://192.168.1.10:1883","connected":true,"buffered":0}}
  JsonDocument live;
  live["op"] = "reading";
  live["ts"] = at;
  live["lux"] = lux;
  live["white"] = white;
  live["als"] = als;
  live["gain"] = gainName(veml.getGain());
  live["integrationMs"] = veml.getIntegrationTimeValue();
  addHubStatus(live["hub"].to<JsonObject>());
  // fieldlink:end
  char buf[384];
  size_t n = serializeJson(live, buf, sizeof buf);
  liveSocket.textAll(buf, n);
}

void takeReading() {
  // VEML_LUX_AUTO: the library's auto-ranging (gain and integration time) with
  // the non-linearity correction. It uses the older 0.0036 lx/count basis; the
  // hub's own driver defaults to the current datasheet's 0.0042 (+16.7 %).
  float lux = veml.readLux(VEML_LUX_AUTO);
  uint16_t als = veml.readALS();
  uint16_t white = veml.readWhite();
  uint64_t at = pageMs();
  history[historyNext] = {at, lux};
  historyNext = (historyNext + 1) % HISTORY;
  if (historyLen < HISTORY) historyLen++;
  broadcastReading(lux, white, als, at);
  if (mqtt.connected()) publishReading(lux, white, als, nowMs());
}

// A page just opened /ws/live: its "hello", with the history for the chart.
void sendHello(uint32_t clientId) {
  // fieldlink:frame live:hello {"op":"hello","id":"esp32-a0b1c2d3e4f5","model":"VEML7700","intervalMs":1000,"history":[{"ts":1764072000000,"lux":412.5}],"hub":{"url":"mqtt://192.168.1.10:1883","connected":true,"buffered":0}}
  JsonDocument live;
  live["op"] = "hello";
  live["id"] = deviceId;
  live["model"] = "VEML7700";
  live["intervalMs"] = intervalMs;
  JsonArray points = live["history"].to<JsonArray>();
  for (size_t i = 0; i < historyLen; i++) {
    const Point& p = history[(historyNext + HISTORY - historyLen + i) % HISTORY];
    JsonObject point = points.add<JsonObject>();
    point["ts"] = p.ts;
    point["lux"] = p.lux;
  }
  addHubStatus(live["hub"].to<JsonObject>());
  // fieldlink:end
  String text;
  serializeJson(live, text);
  liveSocket.text(clientId, text);
}

void publishBirth() {
  // fieldlink:frame status {"online":true,"ts":1764072000000}
  JsonDocument doc;
  doc["online"] = true;
  uint64_t ts = nowMs();
  if (ts) doc["ts"] = ts;
  // fieldlink:end
  publishJson(topicStatus, doc, true);
  mqtt.publish(topicMeta, META_JSON, true);
}

// "identify" also flashes every open page, as the node's page does.
void broadcastIdentify(uint64_t until) {
  // fieldlink:frame live:identify {"op":"identify","until":1764072005000,"durationMs":5000}
  JsonDocument live;
  live["op"] = "identify";
  live["until"] = until;
  live["durationMs"] = 5000;
  // fieldlink:end
  char buf[96];
  size_t n = serializeJson(live, buf, sizeof buf);
  liveSocket.textAll(buf, n);
}

// The handlers fill `result` and return nullptr, or return an error message.
const char* handleCommand(const char* method, JsonVariantConst params, JsonObject result) {
  if (strcmp(method, "set_interval") == 0) {
    // fieldlink:frame params:set_interval {"ms":500}
    if (!params["ms"].is<unsigned long>()) return "params.ms must be an integer from 100 to 3600000";
    unsigned long ms = params["ms"].as<unsigned long>();
    // fieldlink:end
    if (ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) return "params.ms must be an integer from 100 to 3600000";
    intervalMs = ms;
    // fieldlink:frame result:set_interval {"intervalMs":500}
    result["intervalMs"] = intervalMs;
    // fieldlink:end
    return nullptr;
  }
  if (strcmp(method, "identify") == 0) {
    identifyUntil = millis() + 5000;
    broadcastIdentify(pageMs() + 5000);
    // fieldlink:frame result:identify {"identified":true}
    result["identified"] = true;
    // fieldlink:end
    return nullptr;
  }
  return "unknown method";
}

// A command on devices/{id}/cmd/{method}: answer on devices/{id}/cmd/{method}/res.
void onMessage(char* topic, byte* payload, unsigned int length) {
  // PubSubClient reuses one buffer for receiving and sending: copy what we need
  // before publishing the answer.
  char resTopic[160];
  // fieldlink:topic response
  snprintf(resTopic, sizeof resTopic, "%s/res", topic);
  const char* slash = strrchr(topic, '/');
  char method[65];
  strlcpy(method, slash ? slash + 1 : "", sizeof method);

  // fieldlink:frame request {"id":"mwwg14pykr2s-1","params":{"ms":500}}
  JsonDocument req;
  if (deserializeJson(req, (const char*)payload, length)) return;  // not JSON: ignore
  const char* reqId = req["id"];
  if (reqId == nullptr) return;                                     // nobody to answer
  JsonVariantConst params = req["params"];
  // fieldlink:end

  JsonDocument res;
  JsonDocument resultDoc;
  const char* error = handleCommand(method, params, resultDoc.to<JsonObject>());
  if (error == nullptr) {
    // fieldlink:frame response-ok {"id":"mwwg14pykr2s-1","ok":true,"result":{"intervalMs":500}}
    res["id"] = reqId;
    res["ok"] = true;
    res["result"] = resultDoc;
    // fieldlink:end
  } else {
    // fieldlink:frame response-error {"id":"mwwg14pykr2s-1","ok":false,"error":{"message":"unknown method"}}
    res["id"] = reqId;
    res["ok"] = false;
    res["error"]["message"] = error;
    // fieldlink:end
  }
  publishJson(resTopic, res, false);
}

bool connectHub() {
  // clean session; the will is registered with the broker in CONNECT
  if (!mqtt.connect(deviceId, topicStatus, 1, true, WILL_PAYLOAD)) return false;
  mqtt.subscribe(topicCommands, 1);
  publishBirth();
  return true;
}

// Runs in the web server's task (AsyncTCP), not in loop(): only hand the id over.
void onLiveEvent(AsyncWebSocket* server, AsyncWebSocketClient* client, AwsEventType type, void* arg, uint8_t* data, size_t len) {
  (void)server; (void)arg; (void)data; (void)len;
  if (type != WS_EVT_CONNECT) return;  // the page sends nothing; closes need no work
  uint32_t clientId = client->id();
  if (xQueueSend(helloQueue, &clientId, 0) != pdTRUE) hellosDropped++;
}

void sendPage(AsyncWebServerRequest* request, const char* type, const char* body) {
  AsyncWebServerResponse* res = request->beginResponse(200, type, (const uint8_t*)body, strlen(body));
  res->addHeader("Content-Security-Policy", CSP);
  res->addHeader("X-Content-Type-Options", "nosniff");
  res->addHeader("Cache-Control", "no-cache");
  request->send(res);
}

void startWebServer() {
  helloQueue = xQueueCreate(HELLO_QUEUE, sizeof(uint32_t));
  liveSocket.onEvent(onLiveEvent);
  web.addHandler(&liveSocket);
  web.on("/", HTTP_GET, [](AsyncWebServerRequest* r) { sendPage(r, "text/html; charset=utf-8", PAGE_INDEX_HTML); });
  web.on("/index.html", HTTP_GET, [](AsyncWebServerRequest* r) { sendPage(r, "text/html; charset=utf-8", PAGE_INDEX_HTML); });
  web.on("/app.js", HTTP_GET, [](AsyncWebServerRequest* r) { sendPage(r, "text/javascript; charset=utf-8", PAGE_APP_JS); });
  web.on("/style.css", HTTP_GET, [](AsyncWebServerRequest* r) { sendPage(r, "text/css; charset=utf-8", PAGE_STYLE_CSS); });
  web.onNotFound([](AsyncWebServerRequest* r) { r->send(404, "text/plain", "not found"); });
  web.begin();
}

void setup() {
  Serial.begin(115200);
  pinMode(LED_PIN, OUTPUT);
  Wire.begin();  // ESP32 defaults: SDA GPIO 21, SCL GPIO 22
  while (!veml.begin()) {
    Serial.println("no VEML7700 at 0x10: check the wiring");
    delay(2000);
  }
  buildTopics();
  WiFi.mode(WIFI_STA);
  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
  configTime(0, 0, NTP_SERVER);
  startWebServer();  // serves as soon as Wi-Fi is up, with or without a hub
  if (hubConfigured()) {
    snprintf(hubUrl, sizeof hubUrl, "mqtt://%s:%u", HUB_HOST, HUB_PORT);
    mqtt.setServer(HUB_HOST, HUB_PORT);
    mqtt.setBufferSize(1024);  // the default 256 bytes cannot hold META_JSON
    mqtt.setKeepAlive(15);
    mqtt.setCallback(onMessage);
  }
  Serial.printf("Fieldlink device %s -> %s\n", deviceId, hubConfigured() ? hubUrl : "no hub (page only)");
}

void serviceHub(unsigned long now) {
  if (!mqtt.connected()) {
    // retry every 2 s (readings stop going to the hub while away: PubSubClient
    // publishes at QoS 0 and keeps no queue; the sensor node in packages/device buffers)
    if (now - lastConnectAttempt < 2000) return;
    lastConnectAttempt = now;
    if (!connectHub()) {
      Serial.printf("hub not reachable (state %d)\n", mqtt.state());
      return;
    }
    Serial.println("connected");
  }
  mqtt.loop();
}

void loop() {
  unsigned long now = millis();
  digitalWrite(LED_PIN, (long)(identifyUntil - now) > 0 && (now / 250) % 2 ? HIGH : LOW);
  if (WiFi.status() != WL_CONNECTED) return;
  static bool announced = false;
  if (!announced) {
    announced = true;
    Serial.printf("live page: http://%s/\n", WiFi.localIP().toString().c_str());
  }
  uint32_t clientId;
  while (xQueueReceive(helloQueue, &clientId, 0) == pdTRUE) sendHello(clientId);
  liveSocket.cleanupClients(MAX_BROWSERS);
  if (now - lastStatus >= 60000) {
    lastStatus = now;
    Serial.printf("pages open %u, hellos dropped %lu, hub %s\n", (unsigned)liveSocket.count(), hellosDropped, mqtt.connected() ? "connected" : "not connected");
  }
  if (hubConfigured()) serviceHub(now);
  if (now - lastReading >= intervalMs) {
    lastReading = now;
    takeReading();
  }
}
