import { startSecureComposer } from '../../lib/frames/secure-composer';

void startSecureComposer(document);
