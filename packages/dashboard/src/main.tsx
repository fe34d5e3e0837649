/** Entry: styles, the shared device state, the app. */
import { render } from 'preact';
import './styles.css';
import { startDevices } from './lib/devices.js';
import { App } from './views/App.js';

startDevices();
render(<App />, document.getElementById('app')!);
