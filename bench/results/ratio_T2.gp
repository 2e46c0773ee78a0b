set terminal pngcairo noenhanced size 1100,560 font 'sans,11'
set output 'ratio_T2.png'
set title 'lfmap / cds_lfht throughput, 2 threads (geometric mean of per-repetition ratios, bars: 95% CI)'
set ylabel 'ratio (> 1: lfmap faster)'
set grid ytics
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xlabel 'operation mix: lookup / insert / delete %'
set key outside right top vertical
set yrange [0:4.70]
plot 'ratio_T2.dat' using 2:3:4:xtic(1) title 'N=100000 wall clock', \
     '' using 5:6:7 title 'N=100000 per CPU-s', \
     'ratio_T2.dat' using 8:9:10 title 'N=1000000 wall clock', \
     '' using 11:12:13 title 'N=1000000 per CPU-s', \
     1.5 with lines dt 2 lw 2 lc rgb 'red' title 'target, lookups: 1.5', \
     2.0 with lines dt 3 lw 2 lc rgb 'black' title 'target, writes: 2.0', \
     1.0 with lines lw 1 lc rgb 'gray' title 'parity'
