/* PLACEHOLDER */
#ifndef PGR_CMDLINE_H
#define PGR_CMDLINE_H
#endif
