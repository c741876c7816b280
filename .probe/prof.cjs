const p=JSON.parse(require("fs").readFileSync(process.argv[2]));
const self=new Map();
const dt=p.timeDeltas;
const cnt=new Map(); p.samples.forEach((s,i)=>cnt.set(s,(cnt.get(s)||0)+dt[i]));
for(const n of p.nodes){const k=n.callFrame.functionName+" "+n.callFrame.url.replace(/.*node_modules\//,"").replace(/.*work\/main\//,"")+":"+n.callFrame.lineNumber; self.set(k,(self.get(k)||0)+(cnt.get(n.id)||0));}
[...self].sort((a,b)=>b[1]-a[1]).slice(0,+(process.argv[3]||25)).forEach(([k,v])=>console.log((v/1000).toFixed(0).padStart(7)+"ms "+k));
