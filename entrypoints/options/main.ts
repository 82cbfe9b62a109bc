import { startOptionsPage } from '../../lib/ui/options';

void startOptionsPage(document);
