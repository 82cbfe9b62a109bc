import css from '../lib/frames/secure-frame.css?inline';
import { startSecureReader } from '../lib/frames/secure-reader';

// The reader page's whole script, built as one file with its styles (entrypoints/secure-reader.html).
export default defineUnlistedScript(() => {
  const style = document.createElement('style');
  style.textContent = css;
  document.head.append(style);
  void startSecureReader(document);
});
