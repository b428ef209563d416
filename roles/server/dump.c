/* placeholder: being written */ typedef int fdtool_placeholder_dump;
