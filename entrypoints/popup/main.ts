import { startPopup } from '../../lib/ui/popup';

void startPopup(document);
