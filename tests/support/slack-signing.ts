// Signs a request body the way Slack does: the product's own signer (`ctb simulate-slack` signs with it).
export { signedHeaders, slackSignature } from '../../src/slack-simulator/signing.js';
