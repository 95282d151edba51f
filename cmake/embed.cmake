# Turns a binary file into a C array: -DIN=file -DOUT=file.c -DSYM=name
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE ${OUT}
  "/* generated from ${IN}; do not edit */\n#include <stddef.h>\n"
  "extern const unsigned char ${SYM}[];\nextern const size_t ${SYM}_len;\n"
  "const unsigned char ${SYM}[] = {${body}};\nconst size_t ${SYM}_len = ${len};\n")
