import { startWelcome } from '../../lib/ui/welcome';

void startWelcome(document);
