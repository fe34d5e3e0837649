import { createBus } from '../../src/bus/index.js';
import { busContract } from './contract.js';

busContract('embedded (Aedes)', () => createBus({ kind: 'embedded', engine: 'aedes' }));
