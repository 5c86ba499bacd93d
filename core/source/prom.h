/* PLACEHOLDER */
#ifndef PGR_PROM_H
#define PGR_PROM_H
#endif
