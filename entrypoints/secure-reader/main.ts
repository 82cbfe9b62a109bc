import { startSecureReader } from '../../lib/frames/secure-reader';

void startSecureReader(document);
