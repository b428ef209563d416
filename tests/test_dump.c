#include <criterion/criterion.h> /* placeholder: being written */
