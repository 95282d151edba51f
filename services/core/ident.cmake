# Identifier validators and personal-data masking (services/core/ident.c,
# mask.c): pure functions, their own library so that fuzz targets and unit
# tests link them without the rest of core. Included by
# services/core/CMakeLists.txt.
add_library(regident STATIC ${CMAKE_CURRENT_SOURCE_DIR}/ident.c
                            ${CMAKE_CURRENT_SOURCE_DIR}/mask.c
                            ${CMAKE_CURRENT_SOURCE_DIR}/text.c)
target_link_libraries(regident PUBLIC regbase)
