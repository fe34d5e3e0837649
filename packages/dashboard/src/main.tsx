/** Entry: styles, the shared device state, the session (login or connect), the app. */
import { render } from 'preact';
import './styles.css';
import { startDevices } from './lib/devices.js';
import { startAlerts } from './lib/alerts.js';
import { startSession } from './lib/session.js';
import { App } from './views/App.js';

startDevices();
startAlerts();
void startSession();
render(<App />, document.getElementById('app')!);
