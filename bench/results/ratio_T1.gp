set terminal pngcairo noenhanced size 1100,560 font 'sans,11'
set output 'ratio_T1.png'
set title 'lfmap / cds_lfht throughput, 1 thread (geometric mean of per-repetition ratios, bars: 95% CI)'
set ylabel 'ratio (> 1: lfmap faster)'
set grid ytics
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xlabel 'operation mix: lookup / insert / delete %'
set key outside right top vertical
set yrange [0:3.83]
plot 'ratio_T1.dat' using 2:3:4:xtic(1) title 'N=100000 wall clock', \
     '' using 5:6:7 title 'N=100000 per CPU-s', \
     'ratio_T1.dat' using 8:9:10 title 'N=1000000 wall clock', \
     '' using 11:12:13 title 'N=1000000 per CPU-s', \
     1.0 with lines lw 1 lc rgb 'gray' title 'parity'
