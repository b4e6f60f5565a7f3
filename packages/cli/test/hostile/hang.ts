// Hostile: a hang. Never return from loading.
const start = Date.now();
while (Date.now() >= start) {
  // forever
}
