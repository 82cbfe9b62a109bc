import { installNotificationLabels } from '../lib/main-world/notification-labels';

// Registered at run time in the page's own world, next to the content script (lib/background/registration.ts).
export default defineUnlistedScript(() => {
  installNotificationLabels(window);
});
