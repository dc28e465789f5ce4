/* One entry point per command file (cli/cmd_<name>.c). */
#ifndef PROMSCOPE_CLI_COMMANDS_H
#define PROMSCOPE_CLI_COMMANDS_H
int cmd_help(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_scrape(int argc, char **argv);
#endif
