# The course's settings that a student's `nbgrader validate` needs, found by nbgrader when it
# runs from this folder; it imports nothing of the grader. The instructor's configuration,
# autograder/nbgrader_config.py, loads this file and adds the rest.
c = get_config()  # noqa: F821 - provided by traitlets when the file is loaded

c.CourseDirectory.course_id = "lenet5"
# A cell may run this long (seconds) before it is interrupted and marked wrong.
c.Execute.timeout = 60
# `nbgrader validate` cuts every line of a failure to this many characters; the checks'
# messages say what was expected and why further along, so keep most of them.
c.Validator.width = 250
