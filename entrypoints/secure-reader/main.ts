import { startSecureReader } from '../../lib/ui/secure-reader';

void startSecureReader(document);
