import { runContentScript } from '../lib/page/content-main';

// Registered at run time for the policy's protected sites only (lib/background/registration.ts).
export default defineContentScript({
  registration: 'runtime',
  matches: [],
  runAt: 'document_start',
  main() {
    void runContentScript();
  },
});
