#!/usr/bin/env bash
# bench/spreadsheet.sh: how long `lode-publish --check` takes to read the same N registrations as
# NDJSON (the baseline), as UTF-8 CSV with Chinese headers and units, as GBK CSV, and as an .xlsx
# workbook that LibreOffice wrote; alternating the inputs, medians of RUNS runs each.
#   bench/spreadsheet.sh [N=20000] [RUNS=5]      (needs a release build and libreoffice-calc)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
RUNS=${2:-5}
bin=$(swift build -c release --show-bin-path)/lode-publish
[[ -x $bin ]] || { echo "build first: swift build -c release --product lode-publish" >&2; exit 1; }
command -v soffice >/dev/null || { echo "needs LibreOffice: apt-get install libreoffice-calc" >&2; exit 1; }
work=$(mktemp -d)
trap '[[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT

python3 - "$work" "$N" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
cats = ["产业类、稀土产业", "产业类、稀土永磁电机", "基础设施", "产业类、战略性新兴产业、稀土新材料"]
codes = [["industrial", "rare_earth"], ["industrial", "pm_motor"], ["infrastructure"], ["industrial", "strategic_emerging", "rare_earth_material"]]
with open(f"{work}/in.csv", "w", encoding="utf-8") as csv, open(f"{work}/in.ndjson", "w", encoding="utf-8") as nd:
    csv.write("事件编号,项目编号,项目名称,计划年度,类别,新开工,总投资（万元）,当年计划投资（万元）,园区,时间\n")
    for i in range(n):
        wan = 1000 + i % 90000
        day = 1 + i % 28
        csv.write(f"bench-{i},BT-{i:06d},项目{i}号（稀土新材料）,2024,{cats[i % 4]},{'是' if i % 3 else '否'},{wan}.5,{wan // 2},稀土高新区,2024/3/{day} 9:30\n")
        nd.write(json.dumps({"specversion": "1.0", "id": f"bench-{i}", "source": "bench", "type": "zone.project.registered",
            "time": f"2024-03-{day:02d}T09:30:00+08:00", "data": {"project_id": f"BT-{i:06d}", "name": f"项目{i}号（稀土新材料）",
            "plan_year": 2024, "categories": codes[i % 4], "new_start": i % 3 != 0, "total_investment": wan * 10000 + 5000,
            "planned_investment": (wan // 2) * 10000, "park": "稀土高新区"}}, ensure_ascii=False) + "\n")
with open(f"{work}/in.csv", encoding="utf-8") as f, open(f"{work}/in-gbk.csv", "wb") as g:
    g.write(f.read().encode("gb18030"))
PY
# The workbook: LibreOffice imports the CSV (UTF-8, dates detected) and saves it as .xlsx.
soffice "-env:UserInstallation=file://$work/lo" --headless --infilter="CSV:44,34,76,1,,2052,false,false,false,false,true" \
  --convert-to xlsx --outdir "$work" "$work/in.csv" >/dev/null 2>&1

run() {  # run FILE ARGS... → seconds and peak KiB
  /usr/bin/time -f "%e %M" "$bin" --check --source bench "$@" 2>&1 >/dev/null | tail -1 || true
}
declare -A secs mem
inputs=(ndjson csv gbk xlsx)
for ((r = 0; r < RUNS; r++)); do
  for kind in "${inputs[@]}"; do
    case $kind in
      ndjson) out=$(run "$work/in.ndjson") ;;
      csv) out=$(run --type registered "$work/in.csv") ;;
      gbk) out=$(run --type registered "$work/in-gbk.csv") ;;
      xlsx) out=$(run --type registered "$work/in.xlsx") ;;
    esac
    secs[$kind]+="${out% *} "
    mem[$kind]+="${out#* } "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(echo "${secs[ndjson]}" | median)
printf "%-7s %9s %9s %10s   (%d events, median of %d, lode-publish --check, release)\n" input seconds "vs ndjson" "peak MiB" "$N" "$RUNS"
for kind in "${inputs[@]}"; do
  s=$(echo "${secs[$kind]}" | median)
  m=$(echo "${mem[$kind]}" | median)
  printf "%-7s %9.2f %9.2f %10.1f\n" "$kind" "$s" "$(echo "$s / $base" | bc -l)" "$(echo "$m / 1024" | bc -l)"
done
