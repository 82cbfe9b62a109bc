/** `npm run admin -- ...`: entry of the admin CLI (logic and usage in scripts/admin-cli.ts). */
import { runAdmin } from './admin-cli';

runAdmin(process.argv.slice(2), {
  env: process.env,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
}).then((code) => process.exit(code));
