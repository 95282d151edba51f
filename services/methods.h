/*
 * The one table of every registry.v1 method: its handler, whether it needs
 * an API key and which roles may call it. Authorization (services/core/
 * auth.c) reads it before any handler runs.
 */
#ifndef REG_SERVICES_METHODS_H
#define REG_SERVICES_METHODS_H

#include <stddef.h>

#include "services/rpc/rpc.h"

extern const rpc_method registry_methods[];
extern const size_t registry_methods_n;

#endif
