import { createBus } from '../../src/bus/index.js';
import { busContract } from './contract.js';

busContract('embedded (core engine)', () => createBus({ kind: 'embedded', engine: 'core' }));
