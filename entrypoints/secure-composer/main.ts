import { startSecureComposer } from '../../lib/ui/secure-composer';

void startSecureComposer(document);
