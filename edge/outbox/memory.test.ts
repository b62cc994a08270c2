import t from 'tap';
import { outboxContract } from './contract.js';
import { MemoryOutbox } from './memory.js';

outboxContract(t, 'memory', (opts) => ({ outbox: new MemoryOutbox(undefined, opts) }));
