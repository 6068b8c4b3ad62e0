// Test credentials built at run time (a key-shaped literal in a tracked file would fail the audit's
// own secret scan — rightly).
export const TEST_API_KEY = 'k'.repeat(56);
export const TEST_API_SECRET = Buffer.from('s'.repeat(64)).toString('base64');
