// Loaded into a `ctb start` child (NODE_OPTIONS=--import=<this file>) by tests of its exit: stands for a
// library's handle that is never closed — a ref'd interval that would keep the process alive for ever.
setInterval(() => {}, 60_000);
