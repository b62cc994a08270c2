import t from 'tap';
import { outboxContract } from './contract.js';
import { MemoryOutbox } from './memory.js';

outboxContract(t, 'memory', () => ({ outbox: new MemoryOutbox() }));
