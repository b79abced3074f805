namespace pm::bot {
const char* version() {
    return PM_VERSION;
}
} // namespace pm::bot
