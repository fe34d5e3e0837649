// Public API of @fieldlink/device. Everything the hub's CLI, examples and tests import comes from here.
export { systemClock, VirtualClock, type Clock } from './clock.js';
export { I2cError, type I2cBus } from './i2c/types.js';
export { EmulatedI2cBus, type I2cDevice, type EmulatedI2cBusOptions } from './i2c/emulated-bus.js';
export { LinuxI2c } from './i2c/linux.js';
export * from './veml7700/registers.js';
export { MAX_RESOLUTION, resolution, countsToLux, correctNonLinearity, uncorrectNonLinearity, type ResolutionBasis } from './veml7700/lux.js';
export { LADDER, START_RUNG, type Rung } from './veml7700/ladder.js';
export { Veml7700, FULL_SCALE, type Veml7700Options, type Reading } from './veml7700/driver.js';
export { EmulatedVeml7700, type EmulatedVeml7700Options } from './veml7700/emulated.js';
export { createLight, cloudFactor, LIGHT_PROFILES, type LightFn, type LightOptions, type LightProfile } from './light/profiles.js';
export { solarElevation, clearSkyLux, airMass } from './light/sun.js';
export { startFleet, MAX_FLEET, type Fleet, type FleetOptions } from './sim/fleet.js';
export { formatFleetStats, type FleetStats } from './sim/stats.js';
export { deviceMeta, runCommand, CommandError, GAIN_SETTINGS, FIRMWARE, type CommandTarget, type GainSetting } from './sim/commands.js';
export { createLink, linkKind } from './sim/links.js';
export type { DeviceLink, DeviceLinkOptions, CommandHandler } from './sim/link.js';
export { LightSensor, type Telemetry, type LightSensorOptions } from './sim/sensor.js';
