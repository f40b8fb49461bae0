/*
 * fuzz/replay.c - a plain main() for the libFuzzer targets: feeds each file
 * named on the command line to LLVMFuzzerTestOneInput once. `make test`
 * links every fuzz/NAME_fuzz.c with this and replays fuzz/corpus/NAME/
 * under ASan+UBSan, so the corpus is a regression suite without libFuzzer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (1u << 20)

int main(int argc, char **argv)
{
    static uint8_t buf[MAX_INPUT];
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        /* Copy into an exact-size heap block so ASan sees reads past the end. */
        uint8_t *copy = malloc(n ? n : 1);
        if (!copy)
            return 1;
        for (size_t j = 0; j < n; j++)
            copy[j] = buf[j];
        LLVMFuzzerTestOneInput(copy, n);
        free(copy);
    }
    return 0;
}
