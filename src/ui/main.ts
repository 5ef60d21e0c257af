// Entry point of the demo page: reads the two model folders from ?sparse= and ?dense= (defaults
// /weights/sparse/ and /weights/dense/, the embedded pair) and mounts the <sg-demo-app> shell with them.

import './demo-app';

const params = new URLSearchParams(location.search);
const app = document.createElement('sg-demo-app');
app.sparseUrl = params.get('sparse')?.trim() || '/weights/sparse/';
app.denseUrl = params.get('dense')?.trim() || '/weights/dense/';
document.getElementById('app')!.replaceChildren(app);
