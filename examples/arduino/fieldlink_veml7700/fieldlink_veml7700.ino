// Fieldlink light sensor: an ESP32 with a VEML7700, publishing to a Fieldlink hub
// over MQTT 3.1.1 (the hub's TCP door, port 1883). Speaks the hub's device
// conventions (docs/protocol.md, "Topics"):
//
//   devices/{id}/status          retained {"online":true,"ts":…} after every connect
//                                (birth); last will {"online":false,"ts":0,"reason":"will"}
//   devices/{id}/meta            retained model, firmware, metrics and methods
//   devices/{id}/telemetry       {"lux":…,"white":…,"als":…,"ts":…} every intervalMs
//   devices/{id}/cmd/+           {"id","params"} answered on …/cmd/{method}/res, same id
//
// Libraries (Arduino Library Manager): PubSubClient 2.8 (Nick O'Leary),
// ArduinoJson 7 (Benoit Blanchon), Adafruit VEML7700 2.x (with Adafruit BusIO).
// Board: any ESP32 (arduino-esp32 2.x or 3.x). Wiring and notes: ../README.md.
//
// The "fieldlink:" comments mark the topics and JSON frames this sketch builds;
// test/e2e/examples.test.ts extracts them and checks them against the protocol.

#define ARDUINOJSON_USE_LONG_LONG 1  // ts is ms since 1970: more than 32 bits
#include <ArduinoJson.h>
#include <PubSubClient.h>
#include <WiFi.h>
#include <Wire.h>
#include <Adafruit_VEML7700.h>
#include <sys/time.h>
#include <time.h>

// ---------- configuration ----------
const char* WIFI_SSID = "your-wifi";
const char* WIFI_PASSWORD = "your-password";
const char* HUB_HOST = "192.168.1.10";  // the hub's address (an IP is safest; see README)
const uint16_t HUB_PORT = 1883;
const char* DEVICE_ID = "";              // empty: esp32-<MAC>, e.g. esp32-a0b1c2d3e4f5
const char* NTP_SERVER = "pool.ntp.org";  // for "ts"; without time the hub stamps arrival
const int LED_PIN = 2;                    // blinks on "identify" (many dev boards: GPIO 2)

// ---------- protocol constants ----------
const char* FIRMWARE = "fieldlink-esp32-example/0.1.0";
const unsigned long MIN_INTERVAL_MS = 100;
const unsigned long MAX_INTERVAL_MS = 3600000;

// Retained on devices/{id}/status by the broker when this board vanishes
// (power cut, Wi-Fi lost: no DISCONNECT within 1.5 keepalives) [MQTT-3.1.2-8].
// fieldlink:json will
const char WILL_PAYLOAD[] = R"json({"online":false,"ts":0,"reason":"will"})json";

// fieldlink:json meta
const char META_JSON[] = R"json({"model":"VEML7700","firmware":"fieldlink-esp32-example/0.1.0","metrics":{"lux":{"unit":"lx"},"white":{"unit":"counts"},"als":{"unit":"counts"}},"methods":{"set_interval":{"params":{"ms":{"type":"integer","min":100,"max":3600000}}},"identify":{}}})json";

Adafruit_VEML7700 veml;
WiFiClient net;
PubSubClient mqtt(net);

char deviceId[65];
char topicTelemetry[96];
char topicStatus[96];
char topicMeta[96];
char topicCommands[96];
unsigned long intervalMs = 1000;
unsigned long lastReading = 0;
unsigned long identifyUntil = 0;
unsigned long lastConnectAttempt = 0;

// ms since 1970 once NTP has answered, else 0 (the hub then stamps arrival time).
uint64_t nowMs() {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  if (tv.tv_sec < 1700000000) return 0;
  return (uint64_t)tv.tv_sec * 1000ULL + tv.tv_usec / 1000;
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

void publishReading() {
  // VEML_LUX_AUTO: the library's auto-ranging (gain and integration time) with
  // the non-linearity correction. It uses the older 0.0036 lx/count basis; the
  // hub's own driver defaults to the current datasheet's 0.0042 (+16.7 %).
  float lux = veml.readLux(VEML_LUX_AUTO);
  uint16_t als = veml.readALS();
  uint16_t white = veml.readWhite();
  uint64_t ts = nowMs();
  // fieldlink:frame telemetry {"lux":412.5,"white":530,"als":424,"ts":1764072000000}
  JsonDocument doc;
  doc["lux"] = lux;
  doc["white"] = white;
  doc["als"] = als;
  if (ts) doc["ts"] = ts;
  // fieldlink:end
  publishJson(topicTelemetry, doc, false);
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
  mqtt.setServer(HUB_HOST, HUB_PORT);
  mqtt.setBufferSize(1024);  // the default 256 bytes cannot hold META_JSON
  mqtt.setKeepAlive(15);
  mqtt.setCallback(onMessage);
  Serial.printf("Fieldlink device %s -> mqtt://%s:%u\n", deviceId, HUB_HOST, HUB_PORT);
}

void loop() {
  unsigned long now = millis();
  digitalWrite(LED_PIN, (long)(identifyUntil - now) > 0 && (now / 250) % 2 ? HIGH : LOW);
  if (WiFi.status() != WL_CONNECTED) return;
  if (!mqtt.connected()) {
    // retry every 2 s without blocking the loop (readings stop while away: PubSubClient
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
  if (now - lastReading >= intervalMs) {
    lastReading = now;
    publishReading();
  }
}
