import { storeContract } from './contract.js';
import { sqliteHarness } from './sqlite-harness.js';

storeContract('sqlite', sqliteHarness);
