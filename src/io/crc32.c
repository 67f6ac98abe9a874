/* crc32.c: CRC-32 as in IEEE 802.3, zlib and PNG (reflected, polynomial
 * 0xEDB88320, initial value and final xor 0xFFFFFFFF), continuable across
 * calls.  Byte-at-a-time with a 256-entry table built once.  Check value:
 * advc_crc32(0, "123456789", 9) = 0xCBF43926.
 */
#include "advc/checkpoint.h"

#include <pthread.h>

#define CRC32_POLY 0xEDB88320u /* 0x04C11DB7 bit-reversed */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

/* table[b] = the CRC register after shifting byte b through 8 times */
static void crc_table_init(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t r = b;
        for (int k = 0; k < 8; k++)
            r = (r & 1u) ? (r >> 1) ^ CRC32_POLY : r >> 1;
        crc_table[b] = r;
    }
}

/* crc = ~crc; each byte: crc = table[(crc ^ b) & 0xff] ^ (crc >> 8); ~crc */
uint32_t advc_crc32(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&crc_once, crc_table_init);
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}
