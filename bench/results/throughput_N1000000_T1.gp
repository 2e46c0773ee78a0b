set terminal pngcairo noenhanced size 1100,560 font 'sans,11'
set output 'throughput_N1000000_T1.png'
set title 'Throughput, N = 1000000 keys, 1 thread (median of 5 reps, bars: min-max)'
set ylabel 'Mops/s (all threads)'
set grid ytics
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xlabel 'operation mix: lookup / insert / delete %'
set key outside right top vertical
set yrange [0:*]
plot 'throughput_N1000000_T1.dat' using 2:3:4:xtic(1) title 'lfmap', \
     'throughput_N1000000_T1.dat' using 5:6:7 title 'cds_lfht', \
     'throughput_N1000000_T1.dat' using 8:9:10 title 'ck_ht', \
     'throughput_N1000000_T1.dat' using 11:12:13 title 'tbb_chm', \
     'throughput_N1000000_T1.dat' using 14:15:16 title 'libcuckoo', \
     'throughput_N1000000_T1.dat' using 17:18:19 title 'rwlock', \
     'throughput_N1000000_T1.dat' using 20:21:22 title 'striped64', \
     'throughput_N1000000_T1.dat' using 23:24:25 title 'oa_1thread', \
     'throughput_N1000000_T1.dat' using 26:27:28 title 'lfmap-qsbr', \
     'throughput_N1000000_T1.dat' using 29:30:31 title 'lfmap-qsbr-offline', \
     'throughput_N1000000_T1.dat' using 32:33:34 title 'cds_lfht_qsbr', \
     'throughput_N1000000_T1.dat' using 35:36:37 title 'lfmap-ck'
