set terminal pngcairo noenhanced size 1100,560 font 'sans,11'
set output 'latency.png'
set title 'Insert latency while growing from empty to 1000000 entries, 1 thread'
set ylabel 'ns per insert (log scale)'
set grid ytics
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set key outside below horizontal
plot 'latency.dat' using 2:xtic(1) title 'p50', '' using 3 title 'p99', '' using 4 title 'p99.9', '' using 5 title 'max'
