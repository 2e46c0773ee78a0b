set terminal pngcairo noenhanced size 1100,560 font 'sans,11'
set output 'memory.png'
set title 'Memory per entry, N = 1000000 (8-byte keys and values)'
set ylabel 'bytes per entry'
set grid ytics
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside below horizontal
plot 'memory.dat' using 2:xtic(1) title 'after prefill: heap in use (mallinfo2)', \
     '' using 3 title 'after prefill: RSS (statm)', \
     '' using 4 title 'still held after deleting every key: heap', \
     '' using 5 title 'still held after deleting every key: RSS', \
     48 with lines dt 2 lw 2 lc rgb 'red' title 'lfmap target: 48 B/entry'
