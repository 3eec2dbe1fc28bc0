{% raw %}
(function(){
  "use strict";
  // Fast at volume (tens of thousands of rows): each row's filter fields are
  // read from its data-* attributes once, a filter runs over plain arrays and
  // touches only the rows whose state changes, and the compact rows sit in
  // chunks with content-visibility:auto, so rows off screen cost no style or
  // layout until they are scrolled to. Nothing reads layout in between writes.
  var table=document.getElementById("cases");
  var bodies=Array.prototype.slice.call(table.querySelectorAll("tbody.case"));
  var compact=document.getElementById("compact");
  var chunks=compact?Array.prototype.slice.call(compact.querySelectorAll("div.chunk")):[];
  var ruleSel=document.getElementById("f-rule"), statusSel=document.getElementById("f-status");
  var minIn=document.getElementById("f-min"), maxIn=document.getElementById("f-max");
  var workBox=document.getElementById("f-work"), severalBox=document.getElementById("f-several");
  var count=document.getElementById("count");
  var items=bodies.slice(), chunkOf=bodies.map(function(){return -1;});
  chunks.forEach(function(c,k){ // <div class="chunk"><ol> rows </ol></div>
    var rows=c.firstElementChild.children;
    for(var j=0;j<rows.length;j++){items.push(rows[j]); chunkOf.push(k);}
  });
  var listed=items.length;
  var rules=new Array(listed), statuses=new Array(listed), amounts=new Float64Array(listed);
  var works=new Uint8Array(listed), severals=new Uint8Array(listed), shown=new Uint8Array(listed);
  for(var i=0;i<listed;i++){
    var d=items[i].dataset;
    rules[i]=d.rule; statuses[i]=d.status; amounts[i]=Number(d.amount);
    works[i]=d.work==="1"?1:0; severals[i]=Number(d.n||"1")>1?1:0;
    shown[i]=items[i].hidden?0:1;
  }
  var inChunk=chunks.map(function(){return -1;}); // rows shown per chunk (-1: not set yet)
  var ROW_EM=1.8; // the height of a compact row (CSS: div.chunk li{height:1.8em})
  function kr(s){ // Danish or plain number -> øre (integer), or null
    s=(s||"").replace(/kr\.?/i,"").replace(/\s/g,"");
    if(!s) return null;
    if(s.indexOf(",")>=0){s=s.replace(/\./g,"").replace(",",".");}
    else if(/^\d{1,3}(\.\d{3})+$/.test(s)){s=s.replace(/\./g,"");}
    var n=Number(s); return isNaN(n)?null:Math.round(n*100);
  }
  function thousands(n){return String(n).replace(/\B(?=(\d{3})+(?!\d))/g,".");}
  function fmt(ore){
    var neg=ore<0; ore=Math.abs(ore);
    var frac=String(ore%100); if(frac.length<2) frac="0"+frac;
    return (neg?"-":"")+thousands(Math.floor(ore/100))+","+frac+" kr.";
  }
  // content-visibility:auto implies contain-intrinsic-size:auto (CSS Contain 2): a chunk
  // that was once on screen keeps the size it had then (its "last remembered size")
  // while it is off screen, whatever size is set later. After a filter a chunk's rows
  // change, so its <div> is replaced by a fresh one, which remembers nothing, around the
  // same <ol> (one node moved, not its rows): otherwise a chunk seen under a filter keeps
  // that size after a reset, and the scrollbar is wrong until the caseworker scrolls there.
  function renew(k){
    var old=chunks[k], fresh=old.cloneNode(false);
    fresh.appendChild(old.firstElementChild);
    old.parentNode.replaceChild(fresh, old);
    chunks[k]=fresh;
    return fresh;
  }
  function apply(){
    var rule=ruleSel.value, status=statusSel.value, lo=kr(minIn.value), hi=kr(maxIn.value);
    var work=!!(workBox&&workBox.checked), several=!!(severalBox&&severalBox.checked);
    minIn.setAttribute("aria-invalid", String(minIn.value!=="" && lo===null));
    maxIn.setAttribute("aria-invalid", String(maxIn.value!=="" && hi===null));
    var n=0, total=0, per=chunks.map(function(){return 0;});
    for(var i=0;i<listed;i++){
      var a=amounts[i];
      var ok=(!rule||rules[i]===rule)&&(!status||statuses[i]===status)&&
             (lo===null||a>=lo)&&(hi===null||a<=hi)&&
             (!work||works[i]===1)&&(!several||severals[i]===1)?1:0;
      if(ok!==shown[i]){items[i].hidden=!ok; shown[i]=ok;}
      if(ok){n++; total+=a; if(chunkOf[i]>=0) per[chunkOf[i]]++;}
    }
    for(var k=0;k<chunks.length;k++){
      if(per[k]===inChunk[k]) continue;
      var c=inChunk[k]<0?chunks[k]:renew(k);
      inChunk[k]=per[k];
      c.hidden=per[k]===0;
      // the size of a chunk off screen, so the scrollbar is right without laying it out
      c.style.containIntrinsicSize="0 "+(per[k]*ROW_EM)+"em";
    }
    count.textContent="Viser "+thousands(n)+" af "+thousands(listed)+" sager \u2013 i alt "+fmt(total)+" på spil";
  }
  var current={key:"priority",dir:1};
  function sortBy(key,dir){
    var numeric=(table.querySelector('th[data-key="'+key+'"]')||{}).dataset.type!=="text";
    var field=key==="priority"?"order":key; // the person's cases stay together
    bodies.sort(function(x,y){
      var a=x.dataset[field], b=y.dataset[field], c;
      if(numeric){
        var na=a===""?null:Number(a), nb=b===""?null:Number(b);
        if(na===null&&nb===null) c=0; else if(na===null) return 1; else if(nb===null) return -1;
        else c=na-nb;
      } else c=a<b?-1:(a>b?1:0);
      return c*dir || (Number(x.dataset.order)-Number(y.dataset.order));
    });
    var moved=document.createDocumentFragment();
    bodies.forEach(function(b){moved.appendChild(b);});
    table.appendChild(moved);
    Array.prototype.forEach.call(table.querySelectorAll("th[data-key]"),function(th){
      th.setAttribute("aria-sort", th.dataset.key===key?(dir>0?"ascending":"descending"):"none");
    });
    current={key:key,dir:dir};
  }
  Array.prototype.forEach.call(table.querySelectorAll("th[data-key] button.sort"),function(btn){
    btn.addEventListener("click",function(){
      var key=btn.parentNode.dataset.key;
      var first=btn.parentNode.dataset.first==="desc"?-1:1;
      sortBy(key, current.key===key ? -current.dir : first);
    });
  });
  function toggle(b, open){
    var d=b.querySelector("tr.detail"), t=b.querySelector("button.toggle");
    if(open===undefined) open=d.hidden;
    if(d.hidden===!open) return;
    d.hidden=!open; t.setAttribute("aria-expanded",String(open));
    t.textContent=open?"Skjul":"Vis sag";
  }
  table.addEventListener("click",function(e){ // one listener for every case's button
    var t=e.target&&e.target.closest?e.target.closest("button.toggle"):null;
    if(t&&table.contains(t)) toggle(t.closest("tbody.case"));
  });
  document.getElementById("open-all").addEventListener("click",function(){
    bodies.forEach(function(b){ if(!b.hidden) toggle(b,true); });
  });
  document.getElementById("close-all").addEventListener("click",function(){
    bodies.forEach(function(b){ toggle(b,false); });
  });
  [ruleSel,statusSel].forEach(function(el){el.addEventListener("change",apply);});
  [workBox,severalBox].forEach(function(el){ if(el) el.addEventListener("change",apply); });
  [minIn,maxIn].forEach(function(el){el.addEventListener("input",apply);});
  document.getElementById("reset").addEventListener("click",function(){
    ruleSel.value="";statusSel.value="";minIn.value="";maxIn.value="";
    if(workBox) workBox.checked=false;
    if(severalBox) severalBox.checked=false;
    apply();
  });
  apply(); // the browser may have restored the filters' values (reload, back)
})();
{% endraw %}
