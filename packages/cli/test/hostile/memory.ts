// Hostile: memory. Allocate 2 GB and hold on to it.
const held: Buffer[] = [];
try {
  for (let i = 0; i < 20; i++) held.push(Buffer.alloc(100 * 1024 * 1024, 1));
} catch {
  // the limit: keep loading with what we got
}
(globalThis as { xpsHostileHeld?: Buffer[] }).xpsHostileHeld = held;
