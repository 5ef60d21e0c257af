// Entry point of the demo page: reads the model folder from ?model= (default /weights/dense/) and mounts
// the <sg-demo-app> shell with it.

import './demo-app';

const defaultModelUrl = '/weights/dense/';

const params = new URLSearchParams(location.search);
const app = document.createElement('sg-demo-app');
app.modelUrl = params.get('model')?.trim() || defaultModelUrl;
document.getElementById('app')!.replaceChildren(app);
