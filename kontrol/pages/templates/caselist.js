{% raw %}
(function(){
  "use strict";
  var table=document.getElementById("cases");
  var bodies=Array.prototype.slice.call(table.querySelectorAll("tbody.case"));
  var compact=document.getElementById("compact");
  var rows=compact?Array.prototype.slice.call(compact.children):[];
  var ruleSel=document.getElementById("f-rule"), statusSel=document.getElementById("f-status");
  var minIn=document.getElementById("f-min"), maxIn=document.getElementById("f-max");
  var workBox=document.getElementById("f-work"), severalBox=document.getElementById("f-several");
  var count=document.getElementById("count");
  var listed=bodies.length+rows.length;
  function kr(s){ // Danish or plain number -> øre (integer), or null
    s=(s||"").replace(/kr\.?/i,"").replace(/\s/g,"");
    if(!s) return null;
    if(s.indexOf(",")>=0){s=s.replace(/\./g,"").replace(",",".");}
    else if(/^\d{1,3}(\.\d{3})+$/.test(s)){s=s.replace(/\./g,"");}
    var n=Number(s); return isNaN(n)?null:Math.round(n*100);
  }
  function fmt(ore){
    var neg=ore<0; ore=Math.abs(ore);
    var whole=String(Math.floor(ore/100)).replace(/\B(?=(\d{3})+(?!\d))/g,".");
    var frac=String(ore%100); if(frac.length<2) frac="0"+frac;
    return (neg?"-":"")+whole+","+frac+" kr.";
  }
  function apply(){
    var rule=ruleSel.value, status=statusSel.value, lo=kr(minIn.value), hi=kr(maxIn.value);
    var work=!!(workBox&&workBox.checked), several=!!(severalBox&&severalBox.checked);
    minIn.setAttribute("aria-invalid", String(minIn.value!=="" && lo===null));
    maxIn.setAttribute("aria-invalid", String(maxIn.value!=="" && hi===null));
    var shown=0, total=0;
    function test(el){
      var d=el.dataset, a=Number(d.amount);
      var ok=(!rule||d.rule===rule)&&(!status||d.status===status)&&
             (lo===null||a>=lo)&&(hi===null||a<=hi)&&
             (!work||d.work==="1")&&(!several||Number(d.n||"1")>1);
      if(el.hidden===ok) el.hidden=!ok;
      if(ok){shown++; total+=a;}
    }
    bodies.forEach(test);
    for(var i=0;i<rows.length;i++) test(rows[i]);
    count.textContent="Viser "+shown+" af "+listed+" sager \u2013 i alt "+fmt(total)+" på spil";
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
    bodies.forEach(function(b){table.appendChild(b);});
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
    d.hidden=!open; t.setAttribute("aria-expanded",String(open));
    t.textContent=open?"Skjul":"Vis sag";
  }
  bodies.forEach(function(b){
    b.querySelector("button.toggle").addEventListener("click",function(){toggle(b);});
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
  apply();
})();
{% endraw %}
