import { createApp } from 'vue';
import { i18n, localeReady } from '@shared/i18n';
import App from './App.vue';
import { router } from './router';
import './style.css';

void localeReady.then(() => createApp(App).use(i18n).use(router).mount('#app'));
