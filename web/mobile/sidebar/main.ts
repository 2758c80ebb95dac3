import { createApp } from 'vue';
import App from './App.vue';
import { restoreLocale } from './i18n';
import './style.css';

// An English choice loads its words first, so the page never flashes Chinese.
void restoreLocale().then(() => createApp(App).mount('#app'));
