# ruff: noqa: E501  (inline CSS and JS are kept one rule per line)
"""``cases.html``: the case list as one static page (no server, no external assets).

Every case is rendered server-side as escaped HTML: one ``<tbody>`` per case
holding the list row and a hidden detail row. The inline script only sorts
(reorders the ``<tbody>`` elements), filters (hides them) and toggles the
detail rows; it never parses evidence, so the page carries no data in script.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from html import escape
from typing import Any

from kontrol.caselist.account import (
    CaseAccount,
    case_accounts,
    fmt_date,
    fmt_dkk,
    fmt_number,
    fmt_period,
    fmt_score,
)

_CSS = """
:root{--fg:#1b1b1b;--muted:#5a5a5a;--line:#d6d6d6;--head:#f1f3f5;--accent:#0b4f8a;--hi:#fff8e1}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--fg);margin:0;padding:16px 24px}
h1{font-size:20px;margin:0 0 4px}
.meta{color:var(--muted);margin:0 0 12px}
form.filters{display:flex;flex-wrap:wrap;gap:12px;align-items:end;padding:10px 12px;background:var(--head);border:1px solid var(--line);border-radius:6px;margin-bottom:10px}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:2px}
form.filters select,form.filters input{font:inherit;padding:3px 6px;min-width:120px}
form.filters button,.toggle{font:inherit;cursor:pointer}
.toggle{white-space:nowrap}
#count{margin:6px 0 8px;font-weight:600}
table.cases{border-collapse:collapse;width:100%}
table.cases th,table.cases td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
table.cases thead th{background:var(--head);position:sticky;top:0;white-space:nowrap}
th button.sort{all:unset;cursor:pointer;font-weight:700}
th button.sort::after{content:" \\2195";color:#999}
th[aria-sort=ascending] button.sort::after{content:" \\25B2";color:var(--accent)}
th[aria-sort=descending] button.sort::after{content:" \\25BC";color:var(--accent)}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.nowrap{white-space:nowrap}
tr.case:hover{background:#f7fafc}
tr.case .sum{color:var(--muted);font-size:13px}
.rule{font-weight:600}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;background:#e3f2fd;color:#0b4f8a}
.badge.fortsat{background:#eee;color:#444}
tr.detail>td{background:#fbfbfb;padding:10px 16px 16px}
tr.detail[hidden]{display:none}
.account h3{font-size:14px;margin:12px 0 4px}
.account p.lead{font-size:15px;font-weight:600;margin:0 0 6px;background:var(--hi);padding:6px 8px;border-left:4px solid #f0b400}
.account ol.timeline{margin:0;padding-left:20px}
.account table.lines{border-collapse:collapse;margin-top:2px}
.account table.lines th,.account table.lines td{border:1px solid var(--line);padding:3px 8px;font-size:13px}
.account table.lines th{background:var(--head)}
.account .basis{max-width:110ch}
.account .muted{color:var(--muted)}
.cols{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:0 32px}
@media (max-width:1100px){.cols{grid-template-columns:1fr}}
@media print{form.filters,.toggle{display:none}tr.detail[hidden]{display:table-row}}
"""

_JS = r"""
(function(){
  "use strict";
  var table=document.getElementById("cases");
  var bodies=Array.prototype.slice.call(table.querySelectorAll("tbody.case"));
  var ruleSel=document.getElementById("f-rule"), statusSel=document.getElementById("f-status");
  var minIn=document.getElementById("f-min"), maxIn=document.getElementById("f-max");
  var count=document.getElementById("count");
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
    minIn.setAttribute("aria-invalid", String(minIn.value!=="" && lo===null));
    maxIn.setAttribute("aria-invalid", String(maxIn.value!=="" && hi===null));
    var shown=0, total=0;
    bodies.forEach(function(b){
      var a=Number(b.dataset.amount);
      var ok=(!rule||b.dataset.rule===rule)&&(!status||b.dataset.status===status)&&
             (lo===null||a>=lo)&&(hi===null||a<=hi);
      b.hidden=!ok; if(ok){shown++; total+=a;}
    });
    count.textContent="Viser "+shown+" af "+bodies.length+" sager \u2013 i alt "+fmt(total)+" på spil";
  }
  var current={key:"priority",dir:1};
  function sortBy(key,dir){
    var numeric=(table.querySelector('th[data-key="'+key+'"]')||{}).dataset.type!=="text";
    bodies.sort(function(x,y){
      var a=x.dataset[key], b=y.dataset[key], c;
      if(numeric){
        var na=a===""?null:Number(a), nb=b===""?null:Number(b);
        if(na===null&&nb===null) c=0; else if(na===null) return 1; else if(nb===null) return -1;
        else c=na-nb;
      } else c=a<b?-1:(a>b?1:0);
      return c*dir || (Number(x.dataset.priority)-Number(y.dataset.priority));
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
  [minIn,maxIn].forEach(function(el){el.addEventListener("input",apply);});
  document.getElementById("reset").addEventListener("click",function(){
    ruleSel.value="";statusSel.value="";minIn.value="";maxIn.value="";apply();
  });
  apply();
})();
"""

#: (data key, heading, css class, sort type, first direction); None = not sortable.
_COLUMNS: tuple[tuple[str | None, str, str, str, str], ...] = (
    ("priority", "Prioritet", "num", "num", "asc"),
    ("status", "Status", "", "text", "asc"),
    ("rule", "Regel", "", "text", "asc"),
    ("cpr", "CPR-nr.", "", "text", "asc"),
    ("start", "Periode", "", "text", "asc"),
    ("amount", "Beløb", "num", "num", "desc"),
    (None, "Ydelser", "", "", ""),
    ("score", "Anomali-score", "num", "num", "desc"),
    (None, "", "", "", ""),
)


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _ore(amount: Decimal | None) -> str:
    return "" if amount is None else str(int((amount * 100).to_integral_value()))


def _head() -> str:
    cells = []
    for key, label, cls, kind, first in _COLUMNS:
        c = f' class="{cls}"' if cls else ""
        if key is None:
            cells.append(f"<th{c}>{_e(label)}</th>")
        else:
            sort = ' aria-sort="ascending"' if key == "priority" else ' aria-sort="none"'
            cells.append(
                f'<th{c} data-key="{key}" data-type="{kind}" data-first="{first}"{sort}>'
                f'<button type="button" class="sort">{_e(label)}</button></th>'
            )
    return "<thead><tr>" + "".join(cells) + "</tr></thead>"


def _lines_table(a: CaseAccount) -> str:
    if not a.lines:
        return '<p class="muted">Ingen linjer i evidensen.</p>'
    notes = any(ln.note for ln in a.lines)
    head = (
        "<tr><th>Ydelse</th><th>Periode</th><th class='num'>Beløb på spil</th>"
        + ("<th>Bemærkning</th>" if notes else "")
        + "</tr>"
    )
    rows = []
    for ln in a.lines:
        rows.append(
            "<tr>"
            f"<td>{_e(ln.benefit)}</td>"
            f"<td class='nowrap'>{_e(fmt_period(ln.period_start, ln.period_end))}</td>"
            f"<td class='num'>{_e(fmt_dkk(ln.amount))}</td>"
            + (f"<td>{_e(ln.note)}</td>" if notes else "")
            + "</tr>"
        )
    shown = (
        f'<p class="muted">Viser {len(a.lines)} af {a.lines_total} linjer (evidensen er afkortet).</p>'
        if a.lines_total > len(a.lines)
        else ""
    )
    return (
        f'<table class="lines"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>{shown}'
    )


def _timeline(a: CaseAccount) -> str:
    if not a.timeline:
        return (
            '<p class="muted">Ingen registerhændelser: reglen bygger på udbetalingerne alene.</p>'
        )
    items = []
    for ev in a.timeline:
        when = fmt_date(ev.when) + (f"–{fmt_date(ev.until)}" if ev.until else "")
        items.append(f"<li><strong>{_e(when)}</strong> {_e(ev.text)}</li>")
    return f'<ol class="timeline">{"".join(items)}</ol>'


def _ranking(a: CaseAccount, n: int) -> str:
    weight = fmt_number(Decimal(str(a.rule_weight)), 1)
    score = (
        "ingen anomali-score (modtageren er ikke scoret)"
        if a.anomaly_score is None
        else f"anomali-score {fmt_score(a.anomaly_score)} (0 = typisk, 1 = mest usædvanlig)"
    )
    reasons = "".join(f"<li>{_e(r.text)}</li>" for r in a.reasons)
    return (
        f"<p>Prioritet <strong>{a.priority}</strong> af {n}. Rækkefølgen er beløb på spil"
        f" ({_e(fmt_dkk(a.amount))}) × regelvægt ({_e(weight)}) × (1 + scorevægt ×"
        f" anomali-score); {_e(score)}.</p>"
        + (
            f"<p>Hvad der gør modtageren usædvanlig:</p><ul>{reasons}</ul>"
            if reasons
            else '<p class="muted">Ingen forklaring på scoren i evidensen.</p>'
        )
    )


def _case(a: CaseAccount, n: int) -> str:
    status_cls = "fortsat" if a.status == "fortsat" else "ny"
    data = {
        "priority": str(a.priority),
        "rule": a.rule_id,
        "status": a.status,
        "cpr": a.cpr,
        "start": a.period_start.isoformat() if a.period_start else "",
        "amount": _ore(a.amount),
        "score": "" if a.anomaly_score is None else repr(a.anomaly_score),
    }
    attrs = " ".join(f'data-{k}="{_e(v)}"' for k, v in data.items())
    detail_id = f"d-{_e(a.case_id)}"
    row = (
        '<tr class="case">'
        f'<td class="num">{a.priority}</td>'
        f'<td><span class="badge {status_cls}">{_e(a.status)}</span></td>'
        f'<td><span class="rule">{_e(a.rule_id)}</span> {_e(a.rule_name)}'
        f'<div class="sum">{_e(a.summary)}</div></td>'
        f'<td class="nowrap">{_e(a.cpr)}</td>'
        f'<td class="nowrap">{_e(fmt_period(a.period_start, a.period_end))}</td>'
        f'<td class="num">{_e(fmt_dkk(a.amount))}</td>'
        f"<td>{_e(', '.join(a.benefits))}</td>"
        f'<td class="num">{_e(fmt_score(a.anomaly_score))}</td>'
        f'<td><button type="button" class="toggle" aria-expanded="false"'
        f' aria-controls="{detail_id}">Vis sag</button></td>'
        "</tr>"
    )
    detail = (
        f'<tr class="detail" id="{detail_id}" hidden><td colspan="{len(_COLUMNS)}">'
        '<div class="account">'
        f'<p class="lead summary">{_e(a.summary)}</p>'
        f'<p class="muted">Sags-id {_e(a.case_id)} · skæringsdato {_e(fmt_date(a.anchor_date))}'
        f" · {_e(a.rule_id)} {_e(a.rule_name)}</p>"
        '<div class="cols"><div>'
        f'<h3>Tidslinje</h3><div class="timeline-wrap">{_timeline(a)}</div>'
        f'<h3>Hvorfor sagen står her</h3><div class="ranking">{_ranking(a, n)}</div>'
        "</div><div>"
        f'<h3>Udbetalingslinjer</h3><div class="lines-wrap">{_lines_table(a)}</div>'
        "</div></div>"
        f'<h3>Hjemmel</h3><p class="basis">{_e(a.legal_basis)}</p>'
        "</div></td></tr>"
    )
    return f'<tbody class="case" {attrs}>{row}{detail}</tbody>'


def _options(values: list[tuple[str, str]]) -> str:
    return '<option value="">Alle</option>' + "".join(
        f'<option value="{_e(v)}">{_e(label)}</option>' for v, label in values
    )


def render_html(queue: Any, run_info: Mapping[str, str]) -> str:
    """The whole page for a queue (a ``cases.parquet`` DataFrame), as a string.

    ``run_info`` is shown in the header (e.g. ``run_id``, ``as_of``); every
    key and value is escaped. The output depends only on the arguments.
    """
    accounts = case_accounts(queue)
    n = len(accounts)
    rules = sorted({(a.rule_id, f"{a.rule_id} {a.rule_name}") for a in accounts})
    statuses = sorted({(a.status, a.status) for a in accounts} | {("ny", "ny")})
    total = sum((a.amount for a in accounts if a.amount is not None), Decimal(0))
    labels = {"run_id": "Kørsel", "as_of": "Opgjort pr.", "catalogue_version": "Regelkatalog"}
    meta = " · ".join(
        f"{_e(labels.get(k, k))}: {_e(v)}" for k, v in run_info.items() if v is not None
    )
    body = "".join(_case(a, n) for a in accounts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="da"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        "<title>Kontrolsager</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>Kontrolsager – prioriteret liste</h1>"
        f'<p class="meta">{n} sager, i alt {_e(fmt_dkk(total))} på spil'
        f"{' · ' + meta if meta else ''}</p>"
        "<noscript><p>JavaScript er slået fra: sortering og filtrering virker ikke, og alle"
        " sager vises foldet ud.</p><style>tr.detail[hidden]{display:table-row}"
        ".toggle{display:none}</style></noscript>"
        '<form class="filters" onsubmit="return false">'
        f'<label>Regel<select id="f-rule">{_options([(r, lbl) for r, lbl in rules])}</select></label>'
        f'<label>Status<select id="f-status">{_options(statuses)}</select></label>'
        '<label>Beløb fra (kr.)<input id="f-min" type="text" inputmode="decimal"'
        ' placeholder="fx 10.000"></label>'
        '<label>Beløb til (kr.)<input id="f-max" type="text" inputmode="decimal"'
        ' placeholder="fx 100.000"></label>'
        '<button type="button" id="reset">Nulstil</button>'
        '<button type="button" id="open-all">Fold alle ud</button>'
        '<button type="button" id="close-all">Fold alle sammen</button>'
        "</form>"
        f'<p id="count" aria-live="polite">Viser {n} af {n} sager</p>'
        f'<table class="cases" id="cases">{_head()}{body}</table>'
        f"<script>{_JS}</script>"
        "</body></html>\n"
    )
