// Entry point of the demo page: reads the two model folders from ?sparse= and ?dense= (defaults
// /weights/sparse/ and /weights/dense/, the embedded pair), ?model=gpt2-hf (GPT-2 124M from the Hugging Face
// Hub instead) and ?hub= (the Hub's address, default https://huggingface.co), and mounts <sg-demo-app>.

import './demo-app';

const params = new URLSearchParams(location.search);
const app = document.createElement('sg-demo-app');
app.sparseUrl = params.get('sparse')?.trim() || '/weights/sparse/';
app.denseUrl = params.get('dense')?.trim() || '/weights/dense/';
app.model = params.get('model') === 'gpt2-hf' ? 'hub' : 'embedded';
const hub = params.get('hub')?.trim();
if (hub) app.hubEndpoint = hub;
document.getElementById('app')!.replaceChildren(app);
