"""The question banks of the course, shipped inside the package as course_utils.quizzes."""
