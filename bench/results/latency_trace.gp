set terminal pngcairo noenhanced size 1100,560 font 'sans,11'
set output 'latency_trace.png'
set title 'Highest insert latency per 5000 inserts while growing to 1000000 entries'
set ylabel 'ns (log scale)'
set grid ytics
set logscale y
set xlabel 'entries in the map'
set key outside right top vertical
plot 'latency_trace.dat' using 1:2 with lines title 'lfmap', \
     'latency_trace.dat' using 1:3 with lines title 'cds_lfht', \
     'latency_trace.dat' using 1:4 with lines title 'ck_ht', \
     'latency_trace.dat' using 1:5 with lines title 'tbb_chm', \
     'latency_trace.dat' using 1:6 with lines title 'libcuckoo', \
     'latency_trace.dat' using 1:7 with lines title 'rwlock', \
     'latency_trace.dat' using 1:8 with lines title 'striped64', \
     'latency_trace.dat' using 1:9 with lines title 'oa_1thread', \
     'latency_trace.dat' using 1:10 with lines title 'lfmap-qsbr', \
     'latency_trace.dat' using 1:11 with lines title 'lfmap-qsbr-offline', \
     'latency_trace.dat' using 1:12 with lines title 'cds_lfht_qsbr', \
     'latency_trace.dat' using 1:13 with lines title 'lfmap-ck'
