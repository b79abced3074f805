#include <cstdio>
int main() {
    std::puts("postmortem-bot " PM_VERSION);
}
